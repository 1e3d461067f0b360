from . import recall_fsma_xlsx
