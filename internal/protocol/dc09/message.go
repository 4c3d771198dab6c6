// Package dc09 reads and writes SIA DC-09 frames, the IP transport school
// panic buttons and alarm panels use to report to Qorgan:
//
//	LF CRC 0LLL "token" seq [Rrcvr] Lpref #acct [data][x-data]... [_HH:MM:SS,MM-DD-YYYY] CR
//
// It is a pure codec: bytes in, values out. The clock, the keys and the
// randomness for encryption pads are passed in by the caller.
package dc09

import (
	"strings"
	"time"

	"qorgan/internal/protocol/alarmcode"
)

// MaxBodyLen is the largest body the four-hex-digit length field ("0LLL")
// can describe.
const MaxBodyLen = 0x0FFF

// MaxFrameLen is the largest frame accepted: LF, CRC, length, body, CR.
const MaxFrameLen = 1 + 8 + MaxBodyLen + 1

// Token is the ID token of a frame, without quotes and without the "*"
// that marks encryption (see Message.Encrypted).
type Token string

const (
	TokenSIADCS Token = "SIA-DCS"
	TokenADMCID Token = "ADM-CID"
	TokenNULL   Token = "NULL"
	// Response tokens: a receiver never answers these, but the panel
	// simulator parses them.
	TokenACK Token = "ACK"
	TokenNAK Token = "NAK"
	TokenDUH Token = "DUH"
	TokenRSP Token = "RSP"
)

// IsResponse reports whether the token is a receiver's answer.
func (t Token) IsResponse() bool {
	switch t {
	case TokenACK, TokenNAK, TokenDUH, TokenRSP:
		return true
	}
	return false
}

func (t Token) supported() bool {
	switch t {
	case TokenSIADCS, TokenADMCID, TokenNULL:
		return true
	}
	return t.IsResponse()
}

// XData is one extended-data block "[<ID><Value>]", for example ID 'X'
// (longitude) with value "012W34.1".
type XData struct {
	ID    byte
	Value string
}

func (x XData) String() string { return string(x.ID) + x.Value }

// Message is one parsed DC-09 frame.
//
// String fields hold the bytes exactly as received (data and x-data may be
// Windows-1252 or binary). Header fields that were absent are empty.
type Message struct {
	Token     Token
	Encrypted bool
	Sequence  string
	// Receiver is the R field without the "R"; echoed in the reply only
	// when present.
	Receiver string
	// Prefix is the L field without the "L".
	Prefix string
	// Account is the header "#acct" without the "#", as received.
	Account string
	// Data is the first bracket block, decrypted for encrypted frames.
	Data string
	// DataAccount is the "#acct" at the start of Data, if any.
	DataAccount string
	XData       []XData
	// Timestamp is the frame's UTC time, zero when the frame had none.
	Timestamp time.Time
	// Events are the decoded SIA DCS or Contact ID events. Data that cannot
	// be decoded yields one event with Known false, so it is still stored.
	Events []alarmcode.Event
	// Deviations lists the tolerated departures from the standard, for the
	// receiver to log.
	Deviations Deviation
}

// AccountID is the account the frame speaks for: the header account, or the
// data account when a panel left the header one out.
func (m Message) AccountID() string {
	if m.Account != "" {
		return m.Account
	}
	return m.DataAccount
}

// HasXData reports whether an x-data block with the identifier is present.
func (m Message) HasXData(id byte) bool {
	for _, x := range m.XData {
		if x.ID == id {
			return true
		}
	}
	return false
}

// Deviation is a set of departures from DC-09 seen in real panels that
// Parse tolerates.
type Deviation uint

const (
	// DecimalLength: the length field is the decimal byte count.
	DecimalLength Deviation = 1 << iota
	// LowerCaseHex: lower-case hex in CRC, length, header or ciphertext.
	LowerCaseHex
	// MissingPrefix: no L field (dc09_spt without a line).
	MissingPrefix
	// MissingAccount: no #acct in the header.
	MissingAccount
	// MissingPadTerminator: encrypted plaintext without "|" after the pad
	// (Ajax *NULL).
	MissingPadTerminator
	// Unframed: the LF or CR around the frame is missing (UDP datagrams).
	Unframed
)

func (d Deviation) String() string {
	all := [...]string{"decimal-length", "lower-case-hex", "missing-prefix",
		"missing-account", "missing-pad-terminator", "unframed"}
	var names []string
	for i, name := range all {
		if d&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, ",")
}

// Window is how far an encrypted frame's timestamp may be from the
// receiver's clock. The zero Window means the DC-09 default.
type Window struct {
	Past   time.Duration
	Future time.Duration
}

// DefaultWindow is DC-09's −40 s/+20 s.
func DefaultWindow() Window {
	return Window{Past: 40 * time.Second, Future: 20 * time.Second}
}

// contains reports whether ts is within the window around now. The panel
// truncates its clock to whole seconds, so now is truncated too.
func (w Window) contains(now, ts time.Time) bool {
	if w == (Window{}) {
		w = DefaultWindow()
	}
	now = now.Truncate(time.Second)
	return !ts.Before(now.Add(-w.Past)) && !ts.After(now.Add(w.Future))
}
