"""Public verification of sealed documents: by upload, typed fingerprint or the receipt's QR code."""
