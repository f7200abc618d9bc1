"""Sealing: fingerprint, footer, receipt and PAdES seal, as pure functions over bytes.

No Flask and no database here: the sealing job loads the case from the models, builds a
`ReceiptData` and calls `seal_document`; the verification page calls `validate_sealed`
and `find_fingerprint`.
"""
