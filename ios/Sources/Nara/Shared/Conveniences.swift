// Platform-neutral: built for iOS and, by tests/bindings/swift/run, on Linux.
//
// Small conveniences over the generated records. They hold no rule: validation, triage,
// texts and units all come from the core.
import Foundation

/// The generated `Measurement` under a name that does not clash with Foundation's
/// generic `Measurement<UnitType>` in files that import both modules.
public typealias NaraMeasurement = Measurement

extension QualityFlags {
    /// No quality problem flagged: triage gives a colour.
    public static let clear = QualityFlags(
        bodyMovement: false,
        cuffFitPoor: false,
        irregularPulse: false,
        improperPosition: false,
        weakSignal: false,
        pulseOutOfRange: false,
        deviceFault: false
    )
}

extension NewReading {
    /// A reading typed in by the patient, measured at `at` in the device's current time
    /// zone.
    ///
    /// ```swift
    /// let reading = try await nara.readings().add(reading: .manual(.bloodPressure(systolic: 142, diastolic: 91, pulse: 72)))
    /// ```
    public static func manual(
        _ measurement: Measurement,
        at: Date = Date(),
        note: String? = nil,
        quality: QualityFlags = .clear,
        timeZone: TimeZone = .current
    ) -> NewReading {
        NewReading(
            measurement: measurement,
            effectiveAt: at,
            utcOffsetSeconds: Int32(timeZone.secondsFromGMT(for: at)),
            source: .manual,
            quality: quality,
            note: note
        )
    }
}

extension ReadingFilter {
    /// Every current reading (corrections replace what they correct), newest first.
    public static var all: ReadingFilter {
        ReadingFilter(kind: nil, since: nil, until: nil, includeSuperseded: false, limit: nil)
    }

    /// Current readings of one kind measured in the last `days` days, newest first.
    public static func recent(_ kind: ReadingKind, days: Int, now: Date = Date()) -> ReadingFilter {
        ReadingFilter(
            kind: kind,
            since: now.addingTimeInterval(-Double(days) * 86_400),
            until: nil,
            includeSuperseded: false,
            limit: nil
        )
    }
}

extension LocalizedText {
    /// The text in the user's language: Swedish for Swedish (and Sami/Meänkieli/Finnish
    /// speakers in Sweden, who read Swedish), English otherwise.
    public func localized(_ locale: Locale = .current) -> String {
        let language = locale.language.languageCode?.identifier ?? "sv"
        return ["sv", "se", "fit", "fi", "smj", "sma"].contains(language) ? sv : en
    }
}

extension Band {
    /// Symbol, shape, label and advice for this band, from the core: show the symbol and
    /// label with the colour, never the colour alone.
    public var info: BandInfo { bandInfo(band: self) }
}

extension Reading {
    /// The band symbol, the label and the reason in one line, e.g.
    /// `"▲ Red: systolic 185 mmHg is above 179"`; readable without colour.
    public func summaryLine(_ locale: Locale = .current) -> String {
        let info = triage.band.info
        return "\(info.symbol) \(info.label.localized(locale)): \(triage.reason.localized(locale))"
    }
}
