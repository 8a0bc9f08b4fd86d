"""``gitreg check``'s parts: verifying a registry repository the way CI should.

Each problem is reported as a :class:`~gitreg.audit.findings.Finding` under a
:class:`~gitreg.audit.findings.Rule`, and checking keeps going after one:

* every ``registry.yaml``, ``models/<name>.yaml`` record and manifest on
  ``main``, at each version tag and on each stage branch parses;
* every artifact of every version matches its manifest's sha256 and size
  (blobs are read through the store's ``cat-file --batch`` reader, once per
  distinct blob; Git LFS pointers are checked by the sha256 they carry);
* every path a version's ``MLmodel`` names is one of its artifacts;
* every version tag holds ``models/<name>/`` for that name and version, and
  was never moved (:func:`gitreg.audit.versions.check_tag_not_moved`);
* ``main``'s and every stage branch's ``models/<name>/`` equals the subtree
  of the version tag its manifest names;
* every ``models/<name>/`` on ``main`` has its record ``models/<name>.yaml``,
  and every model name in the registry is one the current name rules accept;
* no stage holds an entry readers ignore: a deleted version, a version not
  registered on ``main``, or a model without a record (what a crash between
  a delete's two steps leaves);
* the promotion policy of ``registry.yaml`` (:mod:`gitreg.policy`), read from
  the trusted base, holds for what each stage holds, or with ``ref`` for what
  the ref under review changes (:mod:`.trust`, through
  :class:`gitreg.registry.policy_gate.PolicyGate`, the same gate a promotion
  passes before it is written).

The modules: :mod:`.findings` (rules and findings), :mod:`.state` (one run's
refs, caches and findings), :mod:`.checkout` (completing a partial
checkout), :mod:`.versions` and :mod:`.views` (the rules on tags and on
branches), :mod:`.trust` (policy, overrides, signatures), :mod:`.review` (a
ref under review), :mod:`.checker` (the order they run in), :mod:`.push`
(what a push would do, for the pre-receive hook).

The cost is linear in the number of versions: one ``git for-each-ref`` for
all refs, one ``git rev-list`` of ``main``, object reads over the batch
reader, and a ``git log``/``verify-*`` per model only where a policy asks.

This package's ``__init__`` imports nothing: :mod:`gitreg.registry.policy_gate`
imports :mod:`.findings`, and :mod:`gitreg.check` is the public import path.
"""
