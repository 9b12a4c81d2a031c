"""The customs domain: AEO programmes and MRAs, credential builders, sample data.

https://www.wcoomd.org/en/topics/facilitation/instrument-and-tools/tools/safe_package.aspx
"""
