"""The owner's and manager's back office: program, customers, reports."""
