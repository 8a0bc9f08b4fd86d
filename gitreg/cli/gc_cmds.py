"""``gitreg gc``: keep a registry's git storage bounded."""

from __future__ import annotations

import click

from gitreg.cli.output import done, json_result_option, open_registry, registry_option


@click.command()
@json_result_option
@registry_option
def gc(as_json: bool, registry: str | None) -> None:
    """Drop what the registry's storage no longer needs locally.

    For a registry named by URL, prunes its local mirror of the blobs and Git
    LFS objects of versions neither materialised in the cache nor in a stage
    (they are on the remote and are fetched again if read); an LFS object not
    uploaded yet stays for two weeks. For a local registry, runs git's
    maintenance, which never prunes an object a ref reaches, and keeps every
    LFS object. Refuses, changing nothing, while a write is in progress.
    """
    from gitreg.remote import collect_garbage

    got = collect_garbage(open_registry(registry))
    done(
        as_json,
        got.describe(),
        location=got.location,
        kind=got.kind,
        bytes_before=got.before,
        bytes_after=got.after,
        bytes_freed=got.before - got.after,
        blobs_dropped=got.dropped,
        lfs_objects_dropped=got.lfs_dropped,
    )
