"""Forms of the cases app: the agent console's and the customer portal's."""
