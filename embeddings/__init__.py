"""Pure embedding machinery: text -> vectors -> neighbours. Knows nothing of Flask, SQL or articles."""
