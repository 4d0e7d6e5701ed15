package web

// UnderQueues exposes underQueues to the package's external tests.
var UnderQueues = underQueues

// ParseHop exposes parseHop to the package's external tests.
var ParseHop = parseHop
