"""Sealing: fingerprint, footer, receipt and PAdES seal, as pure functions over bytes.

No Flask and no database here: the sealing job loads the case from the models and calls

- `fingerprint.make_fingerprint(document_sha256, evidence_head)`; lookups use
  `fingerprint.normalise(typed)` and `fingerprint.check(typed)` ("ok"/"typo"/"malformed");
- `pki.load_seal_signer(SEAL_P12, password)`, or `pki.ensure_dev_seal(dir)` without one;
- `seal.sealing_context(trust_roots)` for B-LT/B-LTA (a fresh one per job);
- `pipeline.seal_document(original, fingerprint, verify_url, receipt, language, signer,
  level, tsa_url, validation_context)` -> `SealedResult(pdf, sha256, receipt)`;
- `receipt.render_receipt(receipt, language)` for the receipt alone (the sealing job takes
  `SealedResult.receipt`, cut out of the drawing the pipeline made: `receipt.receipt_alone`).

The verification page calls `validate.validate_sealed(pdf, trust_roots, seal_certs=...)`
and `validate.find_fingerprint(pdf)`.
"""
