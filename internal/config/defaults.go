package config

// OrDefault gives a service's setting its default d when it is left at zero
// (or set below it): the zero value of a Config's number or duration means
// its default.
func OrDefault[T ~int | ~int64 | ~float64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
