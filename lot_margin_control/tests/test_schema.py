from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSchema(TransactionCase):
    def test_every_reference_to_a_lot_is_indexed(self):
        """Deleting a lot makes PostgreSQL find the rows that point to it (to refuse, clear or delete
        them): each of our columns referencing stock_lot has an index, or every lot deleted would
        scan the whole table (one pass over a million move lines per lot)."""
        self.env.cr.execute(
            """
            SELECT field.model, field.name
              FROM ir_model_fields field
              JOIN ir_model_data data ON data.model = 'ir.model.fields' AND data.res_id = field.id
             WHERE data.module = 'lot_margin_control' AND field.ttype = 'many2one'
               AND field.relation = 'stock.lot' AND field.store
            """
        )
        fields = self.env.cr.fetchall()
        self.assertIn(("stock.move.line", "fefo_earlier_lot_id"), fields)
        missing = []
        for model_name, field_name in fields:
            model = self.env[model_name]
            if not model._auto:
                continue  # reports and tables made by hand (their own indexes, or no foreign key)
            self.env.cr.execute(
                """
                SELECT 1 FROM pg_index index
                  JOIN pg_attribute column_ ON column_.attrelid = index.indrelid
                                           AND column_.attnum = index.indkey[0]
                 WHERE index.indrelid = %s::regclass AND column_.attname = %s
                """,
                [model._table, field_name],
            )
            if not self.env.cr.fetchone():
                missing.append(f"{model_name}.{field_name}")
        self.assertEqual(missing, [])
