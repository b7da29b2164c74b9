import Nara
import SwiftUI

/// A form for a blood pressure. The core validates it; its per-field messages are
/// shown under the fields, and the saved reading's band and advice right away.
struct AddReadingView: View {
    @Environment(AppModel.self) private var model
    @Environment(\.dismiss) private var dismiss

    @State private var systolic = ""
    @State private var diastolic = ""
    @State private var pulse = ""
    @State private var note = ""
    @State private var problems: [FieldProblem] = []
    @State private var saved: Reading?
    @State private var failure: String?
    @State private var saving = false

    var body: some View {
        Form {
            Section("Blodtryck (mmHg)") {
                TextField("Övre (systoliskt)", text: $systolic).keyboardType(.numberPad)
                problemText(for: .systolic)
                TextField("Undre (diastoliskt)", text: $diastolic).keyboardType(.numberPad)
                problemText(for: .diastolic)
                TextField("Puls (valfri)", text: $pulse).keyboardType(.numberPad)
                problemText(for: .pulse)
            }
            Section("Anteckning") {
                TextField("Till exempel: efter promenad", text: $note, axis: .vertical)
            }
            ForEach(problems.filter { $0.metric == nil }, id: \.self) { problem in
                Text(problem.message.localized()).foregroundStyle(.red)
            }
            if let failure {
                Text(failure).foregroundStyle(.red)
            }
            if let saved {
                Section("Sparat") {
                    ReadingRow(reading: saved)
                }
            }
        }
        .navigationTitle("Nytt blodtryck")
        .toolbar {
            ToolbarItem(placement: .cancellationAction) {
                Button(saved == nil ? "Avbryt" : "Klar") { dismiss() }
            }
            ToolbarItem(placement: .confirmationAction) {
                // `_Concurrency.Task`: the generated schedule record `Task` shadows it
                // (tests/bindings/swift/REQUESTS.md).
                Button("Spara") { _Concurrency.Task { await save() } }
                    .disabled(saving || saved != nil || systolic.isEmpty || diastolic.isEmpty)
            }
        }
    }

    @ViewBuilder
    private func problemText(for metric: Metric) -> some View {
        ForEach(problems.filter { $0.metric == metric }, id: \.self) { problem in
            Label(problem.message.localized(), systemImage: "exclamationmark.triangle")
                .font(.footnote)
                .foregroundStyle(.red)
        }
    }

    private func save() async {
        saving = true
        defer { saving = false }
        problems = []
        failure = nil
        // Unparsable text becomes NaN, which the core reports as "not a number" for that
        // field: one place decides what is valid.
        let number = { (text: String) in Double(text.replacingOccurrences(of: ",", with: ".")) ?? .nan }
        do {
            saved = try await model.addBloodPressure(
                systolic: number(systolic),
                diastolic: number(diastolic),
                pulse: pulse.isEmpty ? nil : number(pulse),
                note: note.isEmpty ? nil : note
            )
        } catch ReadingError.Invalid(let fieldProblems) {
            problems = fieldProblems
        } catch {
            failure = error.localizedDescription
        }
    }
}
