package model

import "testing"

func TestCheckHash(t *testing.T) {
	for _, h := range []string{
		"$2y$05$abcdefghijklmnopqrstuuIZ6Uj3rq0hDUMmFDQXMu6uCwhtQ1Nnu",
		"$2b$12$abcdefghijklmnopqrstuuIZ6Uj3rq0hDUMmFDQXMu6uCwhtQ1Nnu",
		"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		"$6$rounds=10000$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		"$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA",
		"$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
		"$y$j9T$PaFEMV0mbpeadmHDv0Lp31$G/LliR3MqgdjEBcFC1E.s/3vlRofsZ0Wn5JyZHXAol5",
	} {
		if msg := checkHash(h); msg != "" {
			t.Errorf("%s refused: %s", h, msg)
		}
	}
	for _, h := range []string{
		"",
		"plain",
		"abJnggxhB/yWI", // DES crypt
		"$2y$13$abcdefghijklmnopqrstuuIZ6Uj3rq0hDUMmFDQXMu6uCwhtQ1Nnu", // cost above 12
		"$2y$05$abcdefghijklmnopqrstuuIZ6Uj3rq0hDUMmFDQXMu6uCwhtQ1Nn",  // short
		"$2y$05$abcdefghijklmnopqrstuuIZ6Uj3rq0hDUMmFDQXMu6uCwhtQ1Nn'",
		"$6$rounds=999999$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		"$6$rounds=999$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		"$6$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA", // sha256 length
		"$6$salt salt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
		"$y$jFT$PaFEMV0mbpeadmHDv0Lp31$G/LliR3MqgdjEBcFC1E.s/3vlRofsZ0Wn5JyZHXAol5", // N 2^18: 1 GiB
		"$apr1$salt$hash",
		"$1$saltsalt$9xy1btjgzLYfb7hivXtC//\n",
	} {
		if checkHash(h) == "" {
			t.Errorf("%q accepted", h)
		}
	}
}
