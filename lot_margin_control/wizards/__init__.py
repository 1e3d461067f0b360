from . import stock_lot_quality_wizard
from . import stock_lot_gs1_scan_wizard
