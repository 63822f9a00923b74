package catalog

// utcNano reads the form the SDKs and devices send, "2006-01-02T15:04:05Z"
// with an optional fraction of 1 to 9 digits, in Unix nanoseconds. Anything
// else (a zone offset, a lowercase letter, a leap second, a year outside
// 1678–2261, the store's range) it declines, and the caller parses
// with the time package, whose result it equals whenever it accepts
// (FuzzUTCNano). time.Parse took a tenth of a BatchPut's property checks.
func utcNano(s string) (int64, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false
	}
	var frac int64
	if f := s[19 : len(s)-1]; f != "" {
		if len(f) < 2 || len(f) > 10 || f[0] != '.' {
			return 0, false
		}
		n, ok := digits(f[1:])
		if !ok {
			return 0, false
		}
		for range 10 - len(f) {
			n *= 10
		}
		frac = n
	}
	if year < 1678 || year > 2261 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	secs := daysSinceEpoch(year, month, day)*86400 + hour*3600 + minute*60 + sec
	return secs*1e9 + frac, true
}

// digits reads s as a decimal number of ASCII digits only.
func digits(s string) (int64, bool) {
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	return n, true
}

func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch counts days from 1970-01-01 to a date of the proleptic
// Gregorian calendar (the civil-from-days inverse: eras of 400 years).
func daysSinceEpoch(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 1677: never negative
	yoe := y - era*400
	mp := (m + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
