from . import test_lot_gate
from . import test_quality
from . import test_quarantine_receipt
from . import test_security
from . import test_shelf_life
from . import test_supplier_lot
from . import test_tour
