"""Exports that stream: rows fetched in batches from one SQL statement, files handed over from disk.

The FSMA 204 records and the EPCIS documents can hold 100,000 events: neither the
rows of their statement nor the file they become are ever held whole in Python.
"""

import hashlib
import itertools
import os
import shutil
import tempfile

from psycopg2.extensions import TRANSACTION_STATUS_INTRANS

from odoo.tools import SQL

from .download import download_action

# Rows per FETCH: large enough that round trips cost little, small enough to bound memory.
FETCH_SIZE = 2000
COPY_CHUNK = 1 << 20
_cursor_names = itertools.count(1)


def stream_rows(env, query, as_dict=False, fetch_size=FETCH_SIZE):
    """Yield the rows of one SQL statement, fetched ``fetch_size`` at a time from a server-side cursor.

    The statement goes through Odoo's cursor once (``DECLARE … CURSOR``, planned for
    reading every row: it counts as one query, is logged and runs in the request's
    transaction); its rows then
    come in batches (``FETCH FORWARD``), as a psycopg2 named cursor fetches them,
    so that memory holds one batch, not the result. Flush what the statement reads
    before calling. ``as_dict``: rows as dicts keyed by column name.
    """
    name = SQL.identifier(f"lmc_stream_{next(_cursor_names)}")
    # PostgreSQL plans a cursor for its first tenth by default (nested loops): these are read
    # to the end, so plan for every row (measured: 100,000 FSMA rows in 4 s instead of 17 s).
    # Without JIT: compiling these wide row expressions took 8 s of 11 on the loaded machine,
    # for expressions that are cheap to interpret. Both settings only for planning this cursor.
    env.cr.execute(
        SQL(
            """SET LOCAL cursor_tuple_fraction = 1;
               SET LOCAL jit = off;
               DECLARE %s NO SCROLL CURSOR FOR %s;
               SET LOCAL cursor_tuple_fraction TO DEFAULT;
               SET LOCAL jit TO DEFAULT""",
            name,
            query,
        )
    )
    raw = env.cr._obj  # the batches: what a named cursor's iteration does, under the one statement counted
    closed = False
    try:
        while True:
            raw.execute(f"FETCH FORWARD {int(fetch_size)} FROM {name.code}")
            batch = raw.fetchall()
            if not batch:
                break
            if as_dict:
                columns = [column.name for column in raw.description]
                yield from (dict(zip(columns, row, strict=True)) for row in batch)
            else:
                yield from batch
        raw.execute(f"CLOSE {name.code}")
        closed = True
    finally:
        if (
            not closed
            and not raw.connection.closed
            and raw.connection.get_transaction_status() == TRANSACTION_STATUS_INTRANS
        ):
            # stopped early (e.g. a writer failed): release the cursor, unless the transaction failed
            raw.execute(f"CLOSE {name.code}")


def attachment_from_file(record, name, stream, mimetype):
    """Store the binary file ``stream`` as an attachment of ``record``, copied from disk in chunks.

    With the file store (Odoo's default), the file goes to its place there under
    its SHA-1, as ``ir.attachment`` would write it, and the attachment points at it:
    the content never sits in memory. With attachments in the database
    (``ir_attachment.location`` = ``db``), the bytes have to go through Python.
    Returns the attachment.
    """
    Attachment = record.env["ir.attachment"]
    values = {"name": name, "mimetype": mimetype, "res_model": record._name, "res_id": record.id}
    stream.seek(0)
    if Attachment._storage() == "db":
        return Attachment.create({**values, "raw": stream.read()})
    sha1 = hashlib.sha1()
    size = 0
    while chunk := stream.read(COPY_CHUNK):
        sha1.update(chunk)
        size += len(chunk)
    checksum = sha1.hexdigest()
    store_fname = f"{checksum[:2]}/{checksum}"
    full_path = Attachment._full_path(store_fname)
    if not os.path.exists(full_path):
        os.makedirs(os.path.dirname(full_path), exist_ok=True)
        stream.seek(0)
        # a file of its own next to the target (threads of one server share a pid), renamed when complete
        descriptor, partial = tempfile.mkstemp(dir=os.path.dirname(full_path), suffix=".part")
        with os.fdopen(descriptor, "wb") as target:
            shutil.copyfileobj(stream, target, COPY_CHUNK)
        os.replace(partial, full_path)
        Attachment._mark_for_gc(store_fname)  # removed again if the transaction rolls back
    attachment = Attachment.create(values)
    # create() drops store_fname, file_size and checksum (it computes them from raw bytes): set them as it would
    record.env.cr.execute(
        SQL(
            "UPDATE ir_attachment SET store_fname = %s, file_size = %s, checksum = %s WHERE id = %s",
            store_fname,
            size,
            checksum,
            attachment.id,
        )
    )
    attachment.invalidate_recordset(["store_fname", "file_size", "checksum", "raw", "datas"])
    return attachment


def file_download_action(record, name, stream, mimetype):
    """Like ``download.attachment_download_action`` for a file on disk: stored in chunks, then downloaded."""
    return download_action(attachment_from_file(record, name, stream, mimetype))
