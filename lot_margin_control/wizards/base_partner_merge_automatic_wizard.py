from odoo import models


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    """Merging contacts also moves the recall trace lines of the merged ones."""

    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        # the lines' partner has no foreign key for the generic update to follow
        self.env["stock.lot.recall.line"]._replace_partners(src_partners, dst_partner)
        return super()._update_foreign_keys(src_partners, dst_partner)
