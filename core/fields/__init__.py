"""Fields on document pages: definitions, the values parties fill in, drawing them at sealing.

A field lives on one page of one document, in a box given relative to the page's visible box as
viewed (0..1 from the top-left corner, after the page's rotation), so it survives any page size.
See `definitions` (what a field is), `values` (what a party fills in, validated by a marshmallow
schema generated from the definitions, and hashed into what they sign), `drawing` and `flatten`
(values onto the pages before the seal), `acroform` (a PDF's own form fields offered as fields),
`models` and `service` (the case's fields and values in the database).
"""
