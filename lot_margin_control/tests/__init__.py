from . import test_security
from . import test_supplier_lot
from . import test_tour
