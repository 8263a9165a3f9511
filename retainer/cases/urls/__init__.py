"""Routes of the cases app's HTML doors: ``urls.console`` (``console:``) and ``urls.portal``
(``portal:``); the API's are in ``api_urls``."""
