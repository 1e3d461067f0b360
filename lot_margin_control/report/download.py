def download_action(attachment):
    """The ``ir.actions.act_url`` that downloads ``attachment``."""
    return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "download"}


def attachment_download_action(record, name, content, mimetype):
    """Store ``content`` as an attachment of ``record`` and return the ``ir.actions.act_url`` that downloads it.

    Every export of the addon hands its file over this way (PRODUCT.md §4): the
    file stays on the record it was made from, readable by whoever reads that record.
    Exports written to a file on disk use ``streaming.file_download_action``.
    """
    attachment = record.env["ir.attachment"].create(
        {"name": name, "raw": content, "mimetype": mimetype, "res_model": record._name, "res_id": record.id}
    )
    return download_action(attachment)
