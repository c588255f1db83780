package magento

import (
	"crypto/sha1"
	"crypto/sha256"
	"net/url"
	"strings"
	"testing"
)

// Published vectors: RFC 5849 §1.2 (the photo request, HMAC-SHA1) and the
// §3.4.1.1 base string example. Magento uses HMAC-SHA256; its vector below is
// the §1.2 request with oauth_signature_method=HMAC-SHA256, computed
// independently with `openssl dgst -sha256 -hmac` and Python's hmac module.
func TestOAuthVectors(t *testing.T) {
	photos, _ := url.Parse("http://photos.example.net/photos?file=vacation.jpg&size=original")
	rfc12 := func(method string) [][2]string {
		return [][2]string{
			{"oauth_consumer_key", "dpf43f3p2l4k3l03"},
			{"oauth_token", "nnch734d00sl2jdk"},
			{"oauth_signature_method", method},
			{"oauth_timestamp", "137131202"},
			{"oauth_nonce", "chapoH"},
		}
	}
	base := oauthBaseString("GET", photos, rfc12("HMAC-SHA1"))
	wantBase := "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
	if base != wantBase {
		t.Errorf("§1.2 base string\n got %s\nwant %s", base, wantBase)
	}
	if got := oauthSignature(sha1.New, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", base); got != "MdpQcU8iPSUjWoN/UDMsK2sui9I=" {
		t.Errorf("§1.2 HMAC-SHA1 signature = %s", got)
	}
	base256 := oauthBaseString("GET", photos, rfc12("HMAC-SHA256"))
	if got := oauthSignature(sha256.New, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00", base256); got != "HtMwoX2zenlFjgGg/SNEoKEQmL7CzxYFEKzs7er044Y=" {
		t.Errorf("HMAC-SHA256 signature = %s", got)
	}

	// §3.4.1.1: encoded query values, repeated names, an empty value, form
	// body parameters (passed as extra), an upper-case host and a default port.
	req, _ := url.Parse("http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b")
	base = oauthBaseString("post", req, [][2]string{
		{"c2", ""}, {"a3", "2 q"},
		{"oauth_consumer_key", "9djdj82h48djs9d2"},
		{"oauth_token", "kkk9d7dh3k39sjv7"},
		{"oauth_signature_method", "HMAC-SHA1"},
		{"oauth_timestamp", "137131201"},
		{"oauth_nonce", "7d8f3e4a"},
	})
	wantBase = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	if base != wantBase {
		t.Errorf("§3.4.1.1 base string\n got %s\nwant %s", base, wantBase)
	}
	if got := oauthSignature(sha1.New, "j49sk3j29djd", "dh893hdasih9", base); got != "r6/TJjbCOr97/+UU0NsvSne7s5g=" {
		t.Errorf("§3.4.1.1 HMAC-SHA1 signature = %s", got)
	}
}

func TestPercentEncode(t *testing.T) {
	tests := map[string]string{
		"abcXYZ019-._~":                    "abcXYZ019-._~",
		"a b":                              "a%20b",
		"a+b":                              "a%2Bb",
		"=&%":                              "%3D%26%25",
		"searchCriteria[filter_groups][0]": "searchCriteria%5Bfilter_groups%5D%5B0%5D",
		"anna@example.com":                 "anna%40example.com",
		"jörg":                             "j%C3%B6rg",
		"new,processing":                   "new%2Cprocessing",
	}
	for in, want := range tests {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOAuthHeader(t *testing.T) {
	u, _ := url.Parse("https://shop.example/rest/V1/orders?searchCriteria%5BpageSize%5D=1")
	cred := oauthCredentials{"ck", "consumer-secret-1", "at", "token-secret-1"}
	h := oauthHeader("GET", u, cred, "HMAC-SHA256", sha256.New, "n0nce", 1781080874)
	if !strings.HasPrefix(h, "OAuth ") {
		t.Fatalf("header = %q", h)
	}
	for _, want := range []string{`oauth_consumer_key="ck"`, `oauth_token="at"`, `oauth_signature_method="HMAC-SHA256"`,
		`oauth_nonce="n0nce"`, `oauth_timestamp="1781080874"`, `oauth_version="1.0"`, `oauth_signature="`} {
		if !strings.Contains(h, want) {
			t.Errorf("header %q lacks %s", h, want)
		}
	}
	if strings.Contains(h, "secret-1") {
		t.Errorf("header leaks a secret: %q", h)
	}
	if err := verifyMagentoOAuth("GET", u, h, cred); err != nil {
		t.Errorf("the fake's verifier rejects the header: %v", err)
	}
}
