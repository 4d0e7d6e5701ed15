package sms

// noChar marks a septet of the basic table that is not a character of its own.
const noChar rune = -1

// gsmBasic is the GSM 7-bit default alphabet of 3GPP TS 23.038 §6.2.1,
// indexed by septet value. Septet 0x1B is the escape to the extension table
// (gsmExtension), not a character: a text containing U+001B cannot be sent
// as GSM-7, because the handset would read the following septet as an
// extension character.
var gsmBasic = [128]rune{
	// 0x00–0x0F
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	// 0x10–0x1F
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', noChar, 'Æ', 'æ', 'ß', 'É',
	// 0x20–0x2F (0x24 is the currency sign ¤, not the dollar, which is 0x02)
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	// 0x30–0x3F
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	// 0x40–0x4F
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	// 0x50–0x5F
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	// 0x60–0x6F
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	// 0x70–0x7F
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExtension is the GSM 7-bit default alphabet extension table of
// 3GPP TS 23.038 §6.2.1.1: each character is sent as the escape septet 0x1B
// followed by the septet given here, so it costs two septets. (0x0D, CR2, and
// 0x1B, SS2, are reserved control codes with no character.)
var gsmExtension = [...]struct {
	septet byte
	r      rune
}{
	{0x0A, '\f'}, // form feed (page break)
	{0x14, '^'},
	{0x28, '{'},
	{0x29, '}'},
	{0x2F, '\\'},
	{0x3C, '['},
	{0x3D, '~'},
	{0x3E, ']'},
	{0x40, '|'},
	{0x65, '€'},
}

// gsmCostTableSize covers every basic and extension character except '€'
// (U+20AC), which gsmCost handles on its own; the highest is 'Ω' (U+03A9).
const gsmCostTableSize = 0x3B0

// gsmCostTable holds, for each rune below gsmCostTableSize, the number of
// septets it costs in GSM-7: 1 for the basic table, 2 for the extension
// table, 0 if it cannot be sent as GSM-7.
var gsmCostTable = buildGSMCostTable()

func buildGSMCostTable() *[gsmCostTableSize]uint8 {
	var t [gsmCostTableSize]uint8
	for _, r := range gsmBasic {
		if r != noChar {
			t[r] = 1
		}
	}
	for _, e := range gsmExtension {
		if e.r < gsmCostTableSize {
			t[e.r] = 2
		}
	}
	return &t
}

// gsmCost returns the septets r costs in GSM-7: 1 (basic table),
// 2 (extension table: escape + character) or 0 (not representable).
func gsmCost(r rune) int {
	if r >= 0 && r < gsmCostTableSize {
		return int(gsmCostTable[r])
	}
	if r == '€' {
		return 2
	}
	return 0
}
