//! ISO 4217 currency codes.

/// The alphabetic codes of ISO 4217 List One (current currencies and funds) as the
/// maintenance agency published it in 2025: after the Caribbean guilder (XCG)
/// replaced ANG, with ZWG and XAD added and HRK, SLL, CUC and ZWL withdrawn.
///
/// It includes fund codes (BOV, CHE, USN...), precious metals (XAU...) and the codes
/// for testing (XTS) and "no currency" (XXX), because they are part of the list;
/// a caller that needs a currency people pay in must narrow it down itself.
///
/// Kept sorted so that lookups can binary-search; a test checks the order.
const CODES: [&str; 178] = [
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", //
    "BAM", "BBD", "BDT", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP",
    "BYN", "BZD", //
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE",
    "CZK", //
    "DJF", "DKK", "DOP", "DZD", //
    "EGP", "ERN", "ETB", "EUR", //
    "FJD", "FKP", //
    "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", //
    "HKD", "HNL", "HTG", "HUF", //
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK", //
    "JMD", "JOD", "JPY", //
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", //
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", //
    "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV",
    "MYR", "MZN", //
    "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", //
    "OMR", //
    "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", //
    "QAR", //
    "RON", "RSD", "RUB", "RWF", //
    "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC",
    "SYP", "SZL", //
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", //
    "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", //
    "VED", "VES", "VND", "VUV", //
    "WST", //
    "XAD", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD",
    "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", //
    "YER", //
    "ZAR", "ZMW", "ZWG",
];

/// Whether `code` is an active ISO 4217 alphabetic code, exactly as written
/// (upper case; `"usd"` and `" USD"` are not).
pub fn is_iso4217(code: &str) -> bool {
    CODES.binary_search(&code).is_ok()
}

/// A currency field: trimmed, upper-cased, and on the ISO 4217 list.
pub fn parse_currency(raw: &str, field: &str) -> Result<String, crate::FieldError> {
    let code = raw.trim().to_ascii_uppercase();
    if is_iso4217(&code) {
        Ok(code)
    } else {
        Err(crate::FieldError::new(
            field,
            "must be a three-letter ISO 4217 currency code (e.g. EUR)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_three_upper_case_letters() {
        assert!(
            CODES.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        for code in CODES {
            assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}"
            );
        }
    }

    #[test]
    fn accepts_active_codes() {
        for code in [
            "USD", "EUR", "JPY", "CHF", "GBP", "AED", "ZWG", "XCG", "SLE", "XXX",
        ] {
            assert!(is_iso4217(code), "{code}");
        }
    }

    #[test]
    fn rejects_other_spellings_and_withdrawn_codes() {
        for code in [
            "usd", "Usd", " USD", "USD ", "US", "USDD", "", "ABC", "HRK", "DEM", "VEF",
        ] {
            assert!(!is_iso4217(code), "{code:?}");
        }
    }
}
