"""Reports read from the read models: aging, customer statements, KPIs. Queries take dates from the caller."""
