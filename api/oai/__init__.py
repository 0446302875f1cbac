"""OAI-PMH 2.0 at ``/oai``: the protocol inventories such as ICPSR harvest metadata with.

``protocol.py`` (verbs, arguments, errors, datestamps, identifiers), ``tokens.py`` (resumption
tokens), ``sets.py`` (jurisdictions and categories as sets), ``formats.py`` and ``registry.py``
(metadata formats: ``dc.py`` for oai_dc, ``ddi.py`` for DDI Codebook 2.5), ``responses.py`` (one
handler per verb), ``router.py`` (the HTTP endpoint).
"""
