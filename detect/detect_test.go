package detect

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// hit is an expected finding: its type, confidence and matched text.
type hit struct {
	typ   Type
	conf  Confidence
	match string
}

// positives are texts with the findings Scan must return, in order.
var positives = []struct {
	name string
	text string
	want []hit
}{
	// E-mail addresses.
	{"email", "Contact john.doe@example.com for access", []hit{{Email, High, "john.doe@example.com"}}},
	{"email plus tag", "alerts: ops+line7@cookie-factory.co.uk.", []hit{{Email, High, "ops+line7@cookie-factory.co.uk"}}},
	{"email mailto", "mailto:a@b.io", []hit{{Email, High, "a@b.io"}}},

	// Phone numbers.
	{"e164", "+44 20 7946 0958", []hit{{Phone, High, "+44 20 7946 0958"}}},
	{"e164 compact", "on-call: +4915112345678", []hit{{Phone, High, "+4915112345678"}}},
	{"e164 parens", "+1 (555) 123-4567", []hit{{Phone, High, "+1 (555) 123-4567"}}},
	{"national parens with keyword", "Call me at (555) 123-4567", []hit{{Phone, Medium, "(555) 123-4567"}}},
	{"national dashes with keyword", "mobile: 555-123-4567", []hit{{Phone, Medium, "555-123-4567"}}},
	{"national leading 1", "Fax 1-800-555-0199", []hit{{Phone, Medium, "1-800-555-0199"}}},
	{"national trunk prefix", "Tel. 020 7946 0958", []hit{{Phone, Medium, "020 7946 0958"}}},
	{"keyword after", "555.123.4567 is the shift supervisor's cell", []hit{{Phone, Medium, "555.123.4567"}}},

	// Payment cards.
	{"visa with keyword", "card 4539 1488 0343 6467 exp 12/25", []hit{{CreditCard, High, "4539 1488 0343 6467"}}},
	{"visa without keyword", "ref 4539148803436467", []hit{{CreditCard, Medium, "4539148803436467"}}},
	{"mastercard dashes", "Mastercard: 5273-8461-9205-8373", []hit{{CreditCard, High, "5273-8461-9205-8373"}}},
	{"mastercard 2-series", "payment with 2223846192058371", []hit{{CreditCard, High, "2223846192058371"}}},
	{"amex 4-6-5", "AMEX 3728 461920 58374", []hit{{CreditCard, High, "3728 461920 58374"}}},
	{"discover", "cc# 6011846192058378", []hit{{CreditCard, High, "6011846192058378"}}},
	{"jcb", "jcb 3530846192058377", []hit{{CreditCard, High, "3530846192058377"}}},
	{"diners 14", "Diners 36284619205832", []hit{{CreditCard, High, "36284619205832"}}},
	{"unionpay", "UnionPay 6213846192058374", []hit{{CreditCard, High, "6213846192058374"}}},
	{"maestro", "Maestro 6759846192058374", []hit{{CreditCard, High, "6759846192058374"}}},
	{"visa 13", "PAN: 4539148803433", []hit{{CreditCard, High, "4539148803433"}}},
	{"json value", `{"creditCard":"4539148803436467"}`, []hit{{CreditCard, High, "4539148803436467"}}},

	// US social security numbers.
	{"ssn dashes", "SSN: 536-22-4321", []hit{{SSN, High, "536-22-4321"}}},
	{"ssn spaces", "social security number 536 22 4321", []hit{{SSN, High, "536 22 4321"}}},
	{"ssn bare with keyword", "ssn 536224321", []hit{{SSN, Medium, "536224321"}}},
	{"ssn keyword after", "536-22-4321 (SSN)", []hit{{SSN, High, "536-22-4321"}}},

	// IBANs.
	{"iban gb printed", "GB82 WEST 1234 5698 7654 32", []hit{{IBAN, High, "GB82 WEST 1234 5698 7654 32"}}},
	{"iban de printed", "IBAN: DE89 3704 0044 0532 0130 00.", []hit{{IBAN, High, "DE89 3704 0044 0532 0130 00"}}},
	{"iban de compact", "DE89370400440532013000", []hit{{IBAN, High, "DE89370400440532013000"}}},
	{"iban fr", "FR1420041010050500013M02606", []hit{{IBAN, High, "FR1420041010050500013M02606"}}},
	{"iban nl", "pay to NL91ABNA0417164300", []hit{{IBAN, High, "NL91ABNA0417164300"}}},
	{"iban be", "BE68539007547034", []hit{{IBAN, High, "BE68539007547034"}}},
	{"iban ch", "CH9300762011623852957", []hit{{IBAN, High, "CH9300762011623852957"}}},
	{"iban no", "NO9386011117947", []hit{{IBAN, High, "NO9386011117947"}}},
	{"iban it", "IT60X0542811101000000123456", []hit{{IBAN, High, "IT60X0542811101000000123456"}}},
	{"iban br", "BR1800360305000010009795493C1", []hit{{IBAN, High, "BR1800360305000010009795493C1"}}},

	// Passports.
	{"passport", "passport no. X1234567", []hit{{Passport, Medium, "X1234567"}}},
	{"passport number", "Passport Number: 123456789", []hit{{Passport, Medium, "123456789"}}},
	{"passport keyword after", "C01X00T47 (passport)", []hit{{Passport, Medium, "C01X00T47"}}},

	// IP addresses.
	{"ipv4 private", "gateway 10.0.0.1", []hit{{IPAddress, Low, "10.0.0.1"}}},
	{"ipv4 public", "peer 8.8.8.8:53", []hit{{IPAddress, Medium, "8.8.8.8"}}},
	{"ipv4 documentation", "see 203.0.113.7", []hit{{IPAddress, Low, "203.0.113.7"}}},
	{"ipv4 loopback", "127.0.0.1", []hit{{IPAddress, Low, "127.0.0.1"}}},
	{"ipv6 link-local", "fe80::1%eth0", []hit{{IPAddress, Low, "fe80::1"}}},
	{"ipv6 public", "dns 2001:4860:4860::8888.", []hit{{IPAddress, Medium, "2001:4860:4860::8888"}}},
	{"ipv6 documentation", "[2001:db8::1]:443", []hit{{IPAddress, Low, "2001:db8::1"}}},
	{"ipv6 mapped", "::ffff:8.8.4.4", []hit{{IPAddress, Medium, "::ffff:8.8.4.4"}}},
	{"ipv4 version with address word", "firmware update server 52.95.110.1", []hit{{IPAddress, Medium, "52.95.110.1"}}},

	// AWS credentials.
	{"access key id", "AKIAZ7XQ4M3LKVN2PJ5T", []hit{{AWSAccessKey, High, "AKIAZ7XQ4M3LKVN2PJ5T"}}},
	{"session key id", `"AccessKeyId": "ASIAQ2RT5MX7LKVN2PJ6"`, []hit{{AWSAccessKey, High, "ASIAQ2RT5MX7LKVN2PJ6"}}},
	{"secret key", "aws_secret_access_key = Zx9vQ2mR7tLp4KsW8yNc3HbF6jDg1Ae5Uo0iTqVr",
		[]hit{{AWSSecretKey, High, "Zx9vQ2mR7tLp4KsW8yNc3HbF6jDg1Ae5Uo0iTqVr"}}},
	{"secret key json", `{"SecretAccessKey":"Zx9vQ2mR7tLp4Ks/8yNc3HbF6jDg1Ae5Uo0iTq+r"}`,
		[]hit{{AWSSecretKey, High, "Zx9vQ2mR7tLp4Ks/8yNc3HbF6jDg1Ae5Uo0iTq+r"}}},
	{"key pair", "AKIAZ7XQ4M3LKVN2PJ5T / secret key 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", []hit{
		{AWSAccessKey, High, "AKIAZ7XQ4M3LKVN2PJ5T"}, {AWSSecretKey, High, "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"}}},

	// Private keys.
	{"pem header", "-----BEGIN RSA PRIVATE KEY-----", []hit{{PrivateKey, High, "-----BEGIN RSA PRIVATE KEY-----"}}},
	{"pem block", "key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
		[]hit{{PrivateKey, High, "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"}}},
	{"openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
		[]hit{{PrivateKey, High, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"}}},
	{"pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----", []hit{{PrivateKey, High, "-----BEGIN PGP PRIVATE KEY BLOCK-----"}}},
	{"ec encrypted", "x -----BEGIN ENCRYPTED PRIVATE KEY----- y", []hit{{PrivateKey, High, "-----BEGIN ENCRYPTED PRIVATE KEY-----"}}},

	// JSON web tokens.
	{"jwt", "Authorization: Bearer " + testJWT, []hit{{JWT, High, testJWT}}},
	{"jwt full stop", "token " + testJWT + ".", []hit{{JWT, High, testJWT}}},

	// Connection-string passwords.
	{"url password", "postgres://admin:s3cr3tP4ss@db.example.com:5432/app", []hit{{ConnPassword, High, "s3cr3tP4ss"}}},
	{"url password with at", "mqtt://plc:p@ss@broker.local", []hit{{ConnPassword, High, "p@ss"}}},
	{"odbc", "Server=x;User Id=u;Password=secret;", []hit{{ConnPassword, High, "secret"}}},
	{"odbc pwd braces", "Driver={SQL Server};Uid=sa;Pwd={se;cret}", []hit{{ConnPassword, High, "se;cret"}}},
	{"azure storage", "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=Zm9vYmFy;", []hit{{ConnPassword, High, "Zm9vYmFy"}}},
	{"camel key", `dbPassword="Hunter2!"`, []hit{{ConnPassword, High, "Hunter2!"}}},

	// Generic secrets.
	{"api key", "api_key: 8f7aK2mQ9xLp3Ws5Rt6Yb1Nc4Dv", []hit{{GenericSecret, Medium, "8f7aK2mQ9xLp3Ws5Rt6Yb1Nc4Dv"}}},
	{"bearer", "Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc", []hit{{GenericSecret, Medium, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"}}},
	{"hex with keyword", "secret 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		[]hit{{GenericSecret, Medium, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}},
	{"json token", `{"accessToken":"dGhpcyBpcyBhIHRlc3Q5NzM2MTI0NQ=="}`, []hit{{GenericSecret, Medium, "dGhpcyBpcyBhIHRlc3Q5NzM2MTI0NQ=="}}},

	// Several at once, and overlaps.
	{"several", "owner j.smith@example.org, +49 89 1234567, 10.1.2.3", []hit{
		{Email, High, "j.smith@example.org"}, {Phone, High, "+49 89 1234567"}, {IPAddress, Low, "10.1.2.3"}}},
	{"iban over card digits", "card DE89 3704 0044 0532 0130 00", []hit{{IBAN, High, "DE89 3704 0044 0532 0130 00"}}},
	{"password over email", "amqp://guest:Xy7pq@rabbit.example.com/", []hit{{ConnPassword, High, "Xy7pq"}}},
}

const testJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"

// negatives are texts in which Scan must find nothing at all.
var negatives = []struct{ name, text string }{
	// Ordinary industrial names.
	{"name", "Cookie Line 1 Mixer"},
	{"sensor", "PLC-7 temperature sensor"},
	{"dotted", "com.example.cookiefactory.alarm"},
	{"uuid", "123e4567-e89b-12d3-a456-426614174000"},
	{"arn", "arn:aws:iottwinmaker:us-east-1:123456789012:workspace/x"},
	{"secret arn", "secret arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/OpcUaGateway7-AbCdEf"},
	{"timestamp", "2024-01-15T10:30:00.000Z"},
	{"timestamp offset", "2024-01-15T10:30:00+01:00"},
	{"float", "0.4539148803436467"},
	{"floats", "[1.5707963267948966, -0.4539148803436467, 3.4539148803436467e-05]"},
	{"numbers", `{"count":45391488034364671234,"n":[4539,1488,0343]}`},
	{"version", "firmware 2.4.1.0"},
	{"oid", "1.3.6.1.4.1.2021"},
	{"mac", "00:1A:2B:3C:4D:5E"},
	{"time", "shift starts 06:00:00"},
	{"cpp", "std::string and Foo::Bar, Face::Add(), a::b"},
	{"asset", "texture@2x.png"},
	{"npm", "@aws-sdk/client-iottwinmaker@3.500.0"},
	{"uuid with keyword", "token 123e4567-e89b-12d3-a456-426614174000"},
	{"hex hash without keyword", "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	{"identifier with keyword", "auth AUTH_SERVICE_V2_ENDPOINT_URL"},
	{"snake identifier with keyword", "token tls_private_key_path_v2"},
	{"algorithm with keyword", `auth("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")`},
	{"empty hash with keyword", "x-amz-security-token e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{"camel identifier with keyword", "secret tokenRefreshIntervalSeconds300"},
	{"path with keyword", "token endpoint https://example.com/api/v1/tokens/list"},
	{"url without password", "https://user@example.com/x and ssh://git@github.com/a/b"},
	{"s3 url", "s3://cookie-factory-models/mixer/Mixer_v2.glb"},
	{"data uri with keyword", "private icon data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"},

	// Cards.
	{"test visa", "card 4111111111111111"},
	{"test visa grouped", "credit card 4111 1111 1111 1111"},
	{"test mastercard", "card 5555555555554444"},
	{"test amex", "amex 378282246310005"},
	{"test stripe", "card 4242424242424242"},
	{"test discover", "card 6011111111111117"},
	{"test jcb", "card 3530111333300000"},
	{"luhn invalid", "card 4539148803436468"},
	{"luhn invalid grouped", "card 4539 1488 0343 6468"},
	{"unknown issuer", "card 9539148803436463"},
	{"mixed separators", "card 4539-1488 0343-6467"},
	{"inside hex", "a4539148803436467b"},
	{"after plus", "+4539148803436467x"},

	// SSNs.
	{"nine digits", "536224321"},
	{"ssn shape without keyword", "536-22-4321"},
	{"ssn area 000", "SSN 000-22-4321"},
	{"ssn area 666", "SSN 666-22-4321"},
	{"ssn area 9xx", "SSN 936-22-4321"},
	{"ssn group 00", "SSN 536-00-4321"},
	{"ssn serial 0000", "SSN 536-22-0000"},
	{"ssn all same", "SSN 111-11-1111"},
	{"ssn example", "SSN 123-45-6789"},
	{"ssn woolworth", "SSN: 078-05-1120"},
	{"ssn far keyword", "SSN" + strings.Repeat(" ", 31) + "536-22-4321"},

	// Phones.
	{"bare digits with keyword", "phone 5551234567"},
	{"national without keyword", "555-123-4567"},
	{"e164 too short", "+49 1234"},
	{"e164 too long", "+1234 5678 9012 3456"},
	{"exponent", "1e+12345678"},

	// IBANs.
	{"iban mod97", "GB82 WEST 1234 5698 7654 33"},
	{"iban mod97 compact", "DE89370400440532013001"},
	{"iban wrong length", "DE8937040044053201300"},
	{"iban unknown country", "ZZ89370400440532013000"},

	// Passports.
	{"passport no number", "Passport photo station 3"},
	{"passport date", "passport expires 20300115"},
	{"passport far", "passport" + strings.Repeat(".", 31) + "X1234567"},
	{"number without keyword", "X1234567"},

	// AWS.
	{"doc access key", "AKIAIOSFODNN7EXAMPLE"},
	{"example suffix", "ASIAQ2RT5MX7LEXAMPLE"},
	{"placeholder key", "AKIAXXXXXXXXXXXXXXXX"},
	{"access key inside word", "xAKIAZ7XQ4M3LKVN2PJ5T"},
	{"doc secret key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	{"doc secret key 2", "secret access key je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"},
	{"secret key without keyword", "Zx9vQ2mR7tLp4KsW8yNc3HbF6jDg1Ae5Uo0iTqVr"},
	{"sha1 with keyword", "credentials rotated in 3f786850e387550fdab836ed7e6dc881de23001b"},

	// Private keys, JWTs.
	{"public key", "-----BEGIN PUBLIC KEY-----"},
	{"certificate", "-----BEGIN CERTIFICATE-----"},
	{"jwt without alg", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.c2ln"},
	{"not base64 json", "eyJhbGciOi.eyJzdWIiOiIx.c2ln"},

	// Connection strings.
	{"placeholder password", "Server=x;User Id=u;Password=${DB_PASSWORD};"},
	{"masked password", "postgres://admin:****@db.example.com/app"},
	{"template password", `Password="{{ .Password }}"`},
	{"env password", "mysql://root:$MYSQL_ROOT_PASSWORD@db.example.com/"},
	{"angle password", "Password=<your password>"},
	{"working directory", "PWD=/home/ops"},
	{"comparison", "if password == other"},
	{"password flag", "savePassword=true"},
}

func TestScan(t *testing.T) {
	for _, tc := range positives {
		t.Run(tc.name, func(t *testing.T) {
			got := Scan(tc.text)
			var gotHits []hit
			for _, f := range got {
				gotHits = append(gotHits, hit{f.Type, f.Confidence, tc.text[f.Offset : f.Offset+f.Length]})
			}
			if fmt.Sprint(gotHits) != fmt.Sprint(tc.want) {
				t.Errorf("Scan(%q)\n got %v\nwant %v", tc.text, gotHits, tc.want)
			}
		})
	}
}

func TestScanFindsNothing(t *testing.T) {
	for _, tc := range negatives {
		t.Run(tc.name, func(t *testing.T) {
			if got := Scan(tc.text); len(got) != 0 {
				for _, f := range got {
					t.Errorf("Scan(%q): unexpected %s %s %q", tc.text, f.Type, f.Confidence, tc.text[f.Offset:f.Offset+f.Length])
				}
			}
		})
	}
}

// TestExcerpts checks that no excerpt holds what it stands for.
func TestExcerpts(t *testing.T) {
	for _, tc := range positives {
		for _, f := range Scan(tc.text) {
			m := tc.text[f.Offset : f.Offset+f.Length]
			if strings.Contains(f.Excerpt, m) {
				t.Errorf("%s: excerpt %q holds the match %q", tc.name, f.Excerpt, m)
			}
			if f.Excerpt == "" {
				t.Errorf("%s: empty excerpt", tc.name)
			}
		}
	}
	for _, tc := range []struct{ text, excerpt string }{
		{"john@example.com", "j***@e***.com"},
		{"card 4539-1488-0343-6467", "****-****-****-6467"},
		{"SSN 536-22-4321", "***-**-****"},
		{"GB82 WEST 1234 5698 7654 32", "GB** **** **** **** **** 32"},
		{"AKIAZ7XQ4M3LKVN2PJ5T", "AKIA********"},
		{"-----BEGIN RSA PRIVATE KEY-----", "RSA PRIVATE KEY ****"},
		{"+44 20 7946 0958", "+** ** **** **58"},
		{"8.8.4.4", "8.*.*.*"},
	} {
		fs := Scan(tc.text)
		if len(fs) != 1 || fs[0].Excerpt != tc.excerpt {
			t.Errorf("Scan(%q) = %v, want one finding with excerpt %q", tc.text, fs, tc.excerpt)
		}
	}
}

func TestKeywordProximity(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Confidence
	}{
		{"card" + strings.Repeat(" ", 30) + "4539148803436467", High},
		{"card" + strings.Repeat(" ", 31) + "4539148803436467", Medium},
		{"4539148803436467" + strings.Repeat(" ", 30) + "card", High},
		{"4539148803436467" + strings.Repeat(" ", 31) + "card", Medium},
		// Thirty characters, more bytes.
		{"card" + strings.Repeat("é", 30) + " 4539148803436467", Medium},
		{"card" + strings.Repeat("é", 29) + " 4539148803436467", High},
		// A keyword counts only as a word of its own.
		{"panel 4539148803436467", Medium},
		{"PANEL 4539148803436467", Medium},
		{"PAN 4539148803436467", High},
		{"cardNumber 4539148803436467", High},
		{"credit_card=4539148803436467", High},
		{"discovery 4539148803436467", Medium},
	} {
		fs := Scan(tc.text)
		if len(fs) != 1 || fs[0].Type != CreditCard || fs[0].Confidence != tc.want {
			t.Errorf("Scan(%q) = %v, want one card at %s", tc.text, fs, tc.want)
		}
	}
}

// TestTestCards checks every listed test number would otherwise be found,
// so that the list is what keeps it out.
func TestTestCards(t *testing.T) {
	for n := range testCards {
		if !luhn([]byte(n)) || !issuer([]byte(n)) {
			t.Errorf("test number %s is not a valid card number: the entry is dead", n)
		}
		if fs := Scan("credit card " + n); len(fs) != 0 {
			t.Errorf("test number %s reported: %v", n, fs)
		}
	}
}

func TestOverlapResolution(t *testing.T) {
	// The base64 lines inside a private key block are not secrets of
	// their own; the block is one finding.
	text := "private key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq98gVn3xLzJ0Kp2RqvTmQ9sWcX4yHd8fJ1aB6eN3tUkZ5o\n-----END RSA PRIVATE KEY-----"
	fs := Scan(text)
	if len(fs) != 1 || fs[0].Type != PrivateKey {
		t.Errorf("Scan(key block) = %v, want one PRIVATE_KEY", fs)
	}
	// A JWT's parts are not generic secrets.
	fs = Scan("token: " + testJWT)
	if len(fs) != 1 || fs[0].Type != JWT {
		t.Errorf("Scan(jwt) = %v, want one JSON_WEB_TOKEN", fs)
	}
}

func TestWorst(t *testing.T) {
	if _, ok := Worst(nil); ok {
		t.Error("Worst(nil) ok")
	}
	fs := []Finding{
		{Type: IPAddress, Confidence: Low, Offset: 0},
		{Type: Phone, Confidence: High, Offset: 30},
		{Type: Email, Confidence: High, Offset: 10},
		{Type: CreditCard, Confidence: Medium, Offset: 5},
	}
	if w, ok := Worst(fs); !ok || w.Type != Email {
		t.Errorf("Worst = %v, %v; want the EMAIL_ADDRESS at 10", w, ok)
	}
}

func TestConfidenceString(t *testing.T) {
	for c, want := range map[Confidence]string{Low: "LOW", Medium: "MEDIUM", High: "HIGH", 0: "Confidence(0)"} {
		if got := c.String(); got != want {
			t.Errorf("Confidence(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}

// TestKeywordsFolded checks the keyword lists are written as fold leaves
// text, or they could never match, and start with a letter, as the
// search for them assumes.
func TestKeywordsFolded(t *testing.T) {
	for _, list := range keywords {
		for _, k := range list {
			if !isLower(k[0]) {
				t.Errorf("keyword %q does not start with a lower-case letter", k)
			}
			for i := 0; i < len(k); i++ {
				if fold[k[i]] != k[i] {
					t.Errorf("keyword %q is not folded", k)
				}
			}
		}
	}
}

// TestRandomSecrets measures the generic detector on random tokens next
// to a keyword, and on none.
func TestRandomSecrets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const b62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for _, n := range []int{24, 32, 40} {
		found, alone := 0, 0
		for range 1000 {
			b := make([]byte, n)
			for j := range b {
				b[j] = b62[r.IntN(len(b62))]
			}
			if len(Scan("api_key="+string(b))) > 0 {
				found++
			}
			if len(Scan("value "+string(b))) > 0 {
				alone++
			}
		}
		if found < 950 || alone > 0 {
			t.Errorf("random tokens of %d: %d of 1000 found with a keyword (want 950 or more), %d without (want 0)", n, found, alone)
		}
	}
}

// BenchmarkScanWorstCase scans inputs built to make a careless scanner
// quadratic, at 8 KiB and 64 KiB: a linear scanner shows the same MB/s at
// both sizes. (A benchmark, not a test: timings are not pass or fail.)
func BenchmarkScanWorstCase(b *testing.B) {
	units := []string{
		"a@", "a.", "-----BEGIN PRIVATE KEY-----", "eyJ", "://a:", "1 ", "1-", ":", "a:", "passport 1234567 ",
		"AKIA", "token ", "Password=", "GB82 ", "card 4539148803436467 ", "+1 ", "fe80::1 ", "ab+/",
	}
	for _, u := range units {
		for _, size := range []int{8 << 10, 64 << 10} {
			text := strings.Repeat(u, size/len(u)+1)
			b.Run(fmt.Sprintf("%q/%dKiB", u, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					Scan(text)
				}
			})
		}
	}
}
