package detect

// ibanLengths are the IBAN lengths of the countries in the ISO 13616
// registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
	"LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
	"NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

func isIBANChar(c byte) bool { return isUpper(c) || isDigit(c) }

// iban finds an IBAN whose check digits start at offset d, the start of
// a run of digits: compact (DE89370400440532013000) or printed in groups
// of four (DE89 3704 0044 0532 0130 00), of its country's length and with
// valid mod-97 check digits.
func (s *scanner) iban(d int) {
	t := s.text
	i := d - 2
	if i < 0 || d+2 > len(t) || !isUpper(t[i]) || !isUpper(t[i+1]) || !isDigit(t[d+1]) || i > 0 && isAlnum(t[i-1]) {
		return
	}
	n := ibanLengths[t[i:d]]
	if n == 0 {
		return
	}
	if end := ibanEnd(t, i, n); end > 0 && ibanCheck(t[i:end]) {
		s.add(IBAN, High, i, end, mask(t[i:end], 2, 2))
	}
}

// ibanEnd returns where an IBAN of n characters starting at i ends, or -1.
func ibanEnd(t string, i, n int) int {
	compact := i + n
	if compact <= len(t) && (compact == len(t) || !isAlnum(t[compact])) {
		ok := true
		for k := i + 4; k < compact && ok; k++ {
			ok = isIBANChar(t[k])
		}
		if ok {
			return compact
		}
	}
	pos, count := i+4, 4
	for count < n {
		need := min(4, n-count)
		if pos+1+need > len(t) || t[pos] != ' ' {
			return -1
		}
		for k := pos + 1; k <= pos+need; k++ {
			if !isIBANChar(t[k]) {
				return -1
			}
		}
		pos += 1 + need
		count += need
	}
	if pos < len(t) && isAlnum(t[pos]) {
		return -1
	}
	return pos
}

// ibanCheck validates the check digits: 02 to 98, and the number moved
// to end with the country and check digits, letters as 10 to 35, is 1
// modulo 97.
func ibanCheck(v string) bool {
	if cd := v[2:4]; cd < "02" || cd > "98" {
		return false
	}
	r := 0
	add := func(c byte) {
		switch {
		case isDigit(c):
			r = (r*10 + int(c-'0')) % 97
		case isUpper(c):
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	for k := 4; k < len(v); k++ {
		add(v[k])
	}
	for k := 0; k < 4; k++ {
		add(v[k])
	}
	return r == 1
}
