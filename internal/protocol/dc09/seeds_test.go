package dc09

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the fuzz seed corpora from testdata/dc09-vectors.json")

// TestWriteSeeds regenerates the committed seed corpora of FuzzParse,
// FuzzSplit, FuzzContactID and FuzzSIADCS from the vector file:
//
//	go test ./internal/protocol/dc09 -run TestWriteSeeds -write-seeds
//
// The Contact ID and SIA DCS corpora are written here because this package
// owns the vectors.
func TestWriteSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to regenerate the corpora")
	}
	vectors := loadVectors(t)
	corpora := map[string]map[string]string{
		"testdata/fuzz/FuzzParse":                  {},
		"testdata/fuzz/FuzzSplit":                  {},
		"../contactid/testdata/fuzz/FuzzContactID": {},
		"../siadcs/testdata/fuzz/FuzzSIADCS":       {},
	}
	var stream []byte
	for _, v := range vectors {
		in := v.Input()
		if in == nil {
			continue
		}
		corpora["testdata/fuzz/FuzzParse"][v.Name] = corpusBytes(in)
		stream = append(stream, in...)
		var e struct {
			Token string  `json:"token"`
			Data  *string `json:"data"`
		}
		if err := json.Unmarshal(v.Expected, &e); err != nil {
			t.Fatal(err)
		}
		if e.Data == nil || *e.Data == "" {
			continue
		}
		switch e.Token {
		case "ADM-CID", "NULL":
			corpora["../contactid/testdata/fuzz/FuzzContactID"][v.Name] = corpusString(*e.Data)
		case "SIA-DCS":
			corpora["../siadcs/testdata/fuzz/FuzzSIADCS"][v.Name] = corpusString(*e.Data)
		}
	}
	// Encrypted frames with every key length the fuzz key lookup can open.
	for _, tc := range []struct {
		name string
		m    Message
	}{
		{"generated_encrypted_cid", Message{Token: TokenADMCID, Sequence: "0001", Receiver: "1", Prefix: "0",
			Account: "1111", Data: "#1111|1120 01 005", Timestamp: testNow}},
		{"generated_encrypted_sia_xdata", Message{Token: TokenSIADCS, Sequence: "0002", Prefix: "0",
			Account: "1111", Data: "#1111|Nri1/PA501", XData: []XData{{'X', "006E07.7777777"}}, Timestamp: testNow}},
	} {
		raw, err := EncodeEncrypted(tc.m, fuzzKey, &counter{})
		if err != nil {
			t.Fatal(err)
		}
		corpora["testdata/fuzz/FuzzParse"][tc.name] = corpusBytes(raw)
	}
	corpora["testdata/fuzz/FuzzSplit"]["all_vectors_glued"] = corpusBytes(stream)
	corpora["testdata/fuzz/FuzzSplit"]["split_cases"] = corpusBytes([]byte(
		"junk" + frameA + frameB[:30] + frameC + "\n" + strings.Repeat("A", 64) + "\r" + frameA[:9]))
	for _, extra := range []struct{ corpus, name, value string }{
		{"../contactid/testdata/fuzz/FuzzContactID", "unspaced", "112101003"},
		{"../contactid/testdata/fuzz/FuzzContactID", "status", "|6137 02 011"},
		{"../siadcs/testdata/fuzz/FuzzSIADCS", "multi_event", "#1234|Nri1/BA01/ri2/BA02|Nri3/FA03^text^|Atest"},
		{"../siadcs/testdata/fuzz/FuzzSIADCS", "no_slash", "#1234|Nti19:44id1ri1PA001"},
	} {
		corpora[extra.corpus][extra.name] = corpusString(extra.value)
	}

	for dir, files := range corpora {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: %d seeds", dir, len(files))
	}
}

// corpusBytes and corpusString write Go's fuzz corpus file format.
func corpusBytes(b []byte) string {
	return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", bytes.Clone(b))
}

func corpusString(s string) string {
	return fmt.Sprintf("go test fuzz v1\nstring(%q)\n", s)
}
