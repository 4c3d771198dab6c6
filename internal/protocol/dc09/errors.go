package dc09

// Error is a class of parse failure. Parse wraps one of the constants below
// with detail; test with errors.Is, and let Decide turn it into a reply.
type Error string

func (e Error) Error() string { return string(e) }

const (
	// ErrNotDC09 means the bytes do not even start like a DC-09 frame
	// (CRC, length, quote). Not answered, so that scanners and other
	// protocols on the port get nothing to amplify.
	ErrNotDC09 Error = "dc09: not a DC-09 frame"
	// ErrTooLarge means the frame is longer than MaxFrameLen.
	ErrTooLarge Error = "dc09: frame too large"
	// ErrCRC means the CRC field does not match the frame. Never ACKed.
	ErrCRC Error = "dc09: CRC mismatch"
	// ErrLength means the length field matches neither the hexadecimal
	// nor the decimal byte count, while the CRC was right.
	ErrLength Error = "dc09: length field mismatch"
	// ErrFormat means the frame is framed and checksummed correctly but its
	// header or blocks are malformed.
	ErrFormat Error = "dc09: malformed frame"
	// ErrUnsupportedToken means a well-formed frame carries an ID token
	// this receiver does not process; DC-09 answers that with DUH.
	ErrUnsupportedToken Error = "dc09: unsupported token"
	// ErrNoKey means an encrypted frame came from an account without a
	// usable key (unknown account, no key configured, or a key of the
	// wrong length).
	ErrNoKey Error = "dc09: no key for account"
	// ErrDecrypt means the ciphertext did not decrypt to a DC-09 message
	// with a timestamp; almost always a wrong key.
	ErrDecrypt Error = "dc09: decryption failed"
	// ErrTimestamp means an encrypted frame's timestamp is outside the
	// accepted window; the NAK carries the receiver's time so the panel
	// can correct its clock.
	ErrTimestamp Error = "dc09: timestamp outside window"
)
