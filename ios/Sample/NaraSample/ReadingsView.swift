import Nara
import SwiftUI

/// The live list of readings, newest first, each with band badge, value and reason.
struct ReadingsView: View {
    @Environment(AppModel.self) private var model
    @State private var adding = false

    var body: some View {
        List(model.readings, id: \.id) { reading in
            ReadingRow(reading: reading)
        }
        .overlay {
            if model.readings.isEmpty {
                ContentUnavailableView("Inga mätvärden än", systemImage: "heart.text.square",
                                       description: Text("Tryck på + för att lägga till ett blodtryck."))
            }
        }
        .navigationTitle("Mätvärden")
        .toolbar {
            Button { adding = true } label: { Label("Lägg till blodtryck", systemImage: "plus") }
        }
        .sheet(isPresented: $adding) {
            NavigationStack { AddReadingView() }
        }
    }
}

/// One reading: the symbol, the label and the reason are text, so the row reads the
/// same without colour and with VoiceOver.
struct ReadingRow: View {
    let reading: Reading

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                BandBadge(band: reading.triage.band)
                Spacer()
                Text(reading.effectiveAt, format: .dateTime.day().month().hour().minute())
                    .font(.caption)
                    .foregroundStyle(.secondary)
            }
            Text(reading.valueText.localized())
                .font(.title3.monospacedDigit())
            Text("\(reading.triage.band.info.symbol) \(reading.triage.reason.localized())")
                .font(.subheadline)
            if reading.triage.band != .green {
                Text(reading.triage.advice.localized())
                    .font(.footnote)
                    .foregroundStyle(.secondary)
            }
            if let note = reading.note, !note.isEmpty {
                Text(note).font(.footnote).italic()
            }
        }
        .padding(.vertical, 4)
        .accessibilityElement(children: .combine)
    }
}
