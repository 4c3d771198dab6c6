package dc09

// CRC returns the CRC-16/ARC of b: polynomial 0x8005 reflected (0xA001),
// initial value 0, no final XOR. DC-09 computes it over the bytes from the
// opening quote of the token to the last byte before CR. Some public code
// claims CRC-16/CCITT; that is wrong for DC-09 (check value of
// "123456789" is 0xBB3D).
func CRC(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
