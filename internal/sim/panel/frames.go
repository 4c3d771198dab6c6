package panel

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"qorgan/internal/protocol/contactid"
	"qorgan/internal/protocol/dc09"
	"qorgan/internal/protocol/siadcs"
)

// code is one kind of frame a panel sends.
type code struct {
	token dc09.Token
	// body is the data after "#acct|"; empty for NULL.
	body string
}

// parseCodes reads the Codes of a Config: "NULL", a Contact ID event
// "QEEE GG CCC", a two-letter SIA DCS code, or a SIA DCS block.
func parseCodes(in []string) ([]code, error) {
	out := make([]code, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		switch {
		case strings.EqualFold(s, "NULL"):
			out = append(out, code{token: dc09.TokenNULL})
		case len(s) > 0 && s[0] >= '0' && s[0] <= '9':
			if _, err := contactid.Parse(s); err != nil {
				return nil, fmt.Errorf("panel: code %q: %w", s, err)
			}
			out = append(out, code{token: dc09.TokenADMCID, body: s})
		case len(s) == 2 && isUpper(s):
			out = append(out, code{token: dc09.TokenSIADCS, body: "Nri1/" + s + "001"})
		default:
			if _, err := siadcs.Parse(s); err != nil || strings.ContainsAny(s, "[]\r\n") {
				return nil, fmt.Errorf("panel: code %q is not NULL, a Contact ID event, a SIA DCS code or block", s)
			}
			out = append(out, code{token: dc09.TokenSIADCS, body: s})
		}
	}
	return out, nil
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func parseKey(hexKey, text string) ([]byte, error) {
	switch {
	case hexKey != "" && text != "":
		return nil, fmt.Errorf("panel: give the key as hex or as text, not both")
	case hexKey != "":
		return dc09.ParseKeyHex(hexKey)
	case text != "":
		return dc09.ParseKeyText(text)
	}
	return nil, nil
}

// accountOf names panel i.
func accountOf(cfg Config, i int) (string, error) {
	var a string
	if len(cfg.Accounts) > 0 {
		a = cfg.Accounts[i]
	} else {
		a = fmt.Sprintf(cfg.AccountPattern, i+1)
	}
	if len(a) < 3 || len(a) > 16 || strings.Trim(a, "0123456789ABCDEFabcdef") != "" {
		return "", fmt.Errorf("panel: account %q must be 3 to 16 hex digits", a)
	}
	return a, nil
}

// nextSequence steps a DC-09 sequence number through 0001–9999.
func nextSequence(seq int) int {
	if seq >= 9999 {
		return 1
	}
	return seq + 1
}

// frame builds the bytes of one frame. The timestamp is the panel's
// clock: DC-09 timestamps are UTC to the second.
func (p *panel) frame(c code, seq int) ([]byte, error) {
	m := dc09.Message{
		Token:    c.token,
		Sequence: fmt.Sprintf("%04d", seq),
		Receiver: p.cfg.Receiver,
		Prefix:   p.cfg.Prefix,
		Account:  p.account,
	}
	if c.body != "" {
		m.Data = "#" + p.account + "|" + c.body
	}
	if p.key != nil || !p.cfg.OmitTimestamp {
		m.Timestamp = p.cfg.Now().UTC().Truncate(time.Second)
	}
	if p.key != nil {
		return dc09.EncodeEncrypted(m, p.key, p.cfg.Rand)
	}
	return dc09.Encode(m)
}

// percentiles gives p50, p90, p99 and the maximum, by nearest rank.
func percentiles(d []time.Duration) (p50, p90, p99, top time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return at(0.50), at(0.90), at(0.99), d[len(d)-1]
}
