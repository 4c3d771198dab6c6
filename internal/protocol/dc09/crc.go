package dc09

// CRC returns the CRC-16/ARC of b: polynomial 0x8005 reflected (0xA001),
// initial value 0, no final XOR. DC-09 computes it over the bytes from the
// opening quote of the token to the last byte before CR. Some public code
// claims CRC-16/CCITT; that is wrong for DC-09 (check value of
// "123456789" is 0xBB3D). It goes a byte at a time through crcTable: every
// frame read and every answer written is checked or stamped, and the
// bit-at-a-time loop was 6% of an alarm storm's CPU.
func CRC(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc>>8 ^ crcTable[byte(crc)^c]
	}
	return crc
}

// crcTable is the CRC of each byte value alone, eight steps of the
// reflected polynomial (crcBits).
var crcTable = func() (t [256]uint16) {
	for i := range t {
		t[i] = crcBits(0, byte(i))
	}
	return t
}()

// crcBits feeds one byte into crc a bit at a time: the definition that
// crcTable holds worked out.
func crcBits(crc uint16, c byte) uint16 {
	crc ^= uint16(c)
	for range 8 {
		if crc&1 != 0 {
			crc = crc>>1 ^ 0xA001
		} else {
			crc >>= 1
		}
	}
	return crc
}
