package alarm

// SetAfterSuperviseRead sets what runs between Supervise's read of the
// silent devices and its transaction; nil for nothing.
func SetAfterSuperviseRead(f func()) { afterSuperviseRead = f }
