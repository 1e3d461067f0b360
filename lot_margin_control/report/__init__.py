from . import recall_fsma_xlsx
from . import stock_lot_clearance_report
from . import stock_lot_markdown_recovery_report
from . import stock_lot_valuation_report
from . import stock_lot_margin_report
from . import stock_lot_valuation_xlsx
from . import stock_lot_valuation_rollforward
from . import stock_lot_valuation_rollforward_xlsx
