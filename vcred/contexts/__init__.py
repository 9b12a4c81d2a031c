"""The JSON-LD context documents vcred serves offline (package data).

Notice: these documents were written for vcred from the vocabulary definitions in the W3C
specifications (VC Data Model 2.0 and 1.1, VC Data Integrity 1.0, Controlled Identifiers 1.0,
Bitstring Status List 1.0, DID Core 1.0, the Security Vocabulary). The specifications are W3C
documents, © W3C® (MIT, ERCIM, Keio, Beihang), used under the W3C Document License
(https://www.w3.org/copyright/document-license-2023/). README.md in the source tree lists each
URL, its file and its source, and the known differences from the published documents.
"""
