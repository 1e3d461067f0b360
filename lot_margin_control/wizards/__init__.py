from . import stock_lot_quality_wizard
from . import stock_lot_gs1_scan_wizard
from . import stock_lot_clearance_quotation_wizard
from . import stock_lot_recall_wizard
from . import stock_lot_recall_notify_wizard
from . import stock_lot_recall_withdraw_wizard
from . import stock_lot_valuation_wizard
from . import stock_lot_valuation_wizard_rollforward
