"""The signer's journey: the link, reading and comparing documents, signing methods, evidence."""
