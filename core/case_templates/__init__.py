"""Templates: reusable cases with documents, roles instead of people, fields and settings.

A template's content lives in immutable versions (`TemplateVersion.content`, checked by
`schemas.TemplateContent`); every edit makes a new version, and a case made from a template
records the template and the version it was made from, so later edits never change it.
"""
