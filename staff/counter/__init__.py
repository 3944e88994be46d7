"""The counter: scan or find a customer, see their panel, close an order, print a receipt."""
