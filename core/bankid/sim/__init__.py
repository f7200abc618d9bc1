"""Parts of the local BankID simulator: certificates, orders, evidence and the two HTTP faces."""
