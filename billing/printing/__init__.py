"""The printed boleto and carnê: slips laid out for A4 paper, with the barcode drawn on the server."""
