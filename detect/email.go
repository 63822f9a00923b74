package detect

import "strings"

func isLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}
func isDomain(c byte) bool { return isAlnum(c) || c == '.' || c == '-' }

// assetTLDs are file extensions that follow '@' in asset names such as
// "texture@2x.png"; none is a top-level domain in use for mail.
var assetTLDs = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "bmp": true, "tif": true,
	"tiff": true, "ico": true, "glb": true, "gltf": true, "obj": true, "fbx": true, "usd": true, "usdz": true,
	"json": true, "bin": true, "ktx2": true, "hdr": true, "js": true, "css": true, "html": true, "txt": true,
}

// emails finds local@domain.tld: a local part of up to 64 of
// [A-Za-z0-9._%+-], a domain of two or more labels and an alphabetic
// top-level domain.
func (s *scanner) emails() {
	t := s.text
	for i := 0; i < len(t); {
		at := strings.IndexByte(t[i:], '@')
		if at < 0 {
			return
		}
		at += i
		i = at + 1
		// Neither part runs past another '@', so each byte is looked at
		// at most twice.
		ls := at
		for ls > 0 && isLocal(t[ls-1]) && at-ls <= 64 {
			ls--
		}
		de := at + 1
		for de < len(t) && isDomain(t[de]) && de-at <= 254 {
			de++
		}
		if at-ls > 64 || de-at-1 > 253 {
			continue // too long for an address
		}
		for de > at+1 && (t[de-1] == '.' || t[de-1] == '-') { // a full stop after the address
			de--
		}
		local, domain := t[ls:at], t[at+1:de]
		if local == "" || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
			continue
		}
		if !validDomain(domain) || de < len(t) && (t[de] == '@' || t[de] == '_') {
			continue
		}
		// In scheme://user:password@host, the user is no mailbox.
		if userinfo(t, ls) {
			continue
		}
		tld := domain[strings.LastIndexByte(domain, '.')+1:]
		s.add(Email, High, ls, de, local[:1]+"***@"+domain[:1]+"***."+tld)
	}
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 || assetTLDs[strings.ToLower(tld)] {
		return false
	}
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	for i := 0; i < len(tld); i++ {
		if !isLetter(tld[i]) {
			return false
		}
	}
	return true
}

var authorityStart = byteSet("/@ \t\r\n\"'<>")

// userinfo reports whether offset i is inside the authority of a URL:
// after "://" with no '/', '@' or space in between.
func userinfo(t string, i int) bool {
	k := i
	for k > 0 && i-k < 256 && !authorityStart[t[k-1]] {
		k--
	}
	return strings.HasSuffix(t[:k], "://")
}
