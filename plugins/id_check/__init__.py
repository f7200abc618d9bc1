"""ID check: the signer's ID document photographed, read and checked (issue 18).

So far the library only: `mrz` (parse an MRZ, its check digits), `names` (does a name on a document
belong to the party), `checks` (the verdict against a party), `ocr` (read the MRZ from a photo) and
`capture` (is the photo good enough). No hooks yet: the package is not in
`core.plugins.BUILTIN_PLUGINS`, so tenants see nothing of it until its pages and storage land.
"""
