{
    "name": "Lot Margin Control",
    "summary": "Lot shelf life, quality status, FEFO, recalls, near-date pricing "
    "and inventory value and margin by lot",
    "version": "18.0.1.1.0",
    "category": "Inventory/Inventory",
    "license": "LGPL-3",
    "author": "lot_margin_control developers",
    "website": "https://github.com/lot-margin-control/lot_margin_control",
    "depends": [
        "mail",
        "stock",
        "product_expiry",
        "stock_account",
        "sale_stock",
        "purchase_stock",
        "barcodes_gs1_nomenclature",
        # OCA, installed from PyPI (18.0 series)
        "stock_lot_production_date",
        "sale_order_lot_selection",
        "stock_restrict_lot",
    ],
    "data": [
        "security/lot_margin_control_security.xml",
        "data/barcode_rule_data.xml",
        "security/ir.model.access.csv",
        "wizards/stock_lot_gs1_scan_wizard_views.xml",
        "views/stock_picking_views.xml",
        "data/ir_cron_data.xml",
        "wizards/stock_lot_quality_wizard_views.xml",
        "views/stock_lot_views.xml",
        "views/product_views.xml",
        "views/stock_quant_views.xml",
        "views/stock_move_line_views.xml",
        "views/stock_location_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/lot_margin_control_demo.xml",
    ],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "assets": {
        "web.assets_tests": [
            "lot_margin_control/static/tests/tours/*.js",
        ],
    },
}
