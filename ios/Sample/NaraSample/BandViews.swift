import Nara
import SwiftUI

/// Colour, shape, symbol and label of a band together: colour is never the only signal.
struct BandBadge: View {
    let band: Band

    var body: some View {
        let info = band.info
        HStack(spacing: 6) {
            BandShapeView(shape: info.shape)
                .foregroundStyle(band.color)
                .frame(width: 14, height: 14)
            Text(info.label.localized())
                .font(.caption.weight(.semibold))
        }
        .padding(.horizontal, 8)
        .padding(.vertical, 4)
        .background(band.color.opacity(0.15), in: Capsule())
        .accessibilityElement(children: .combine)
        .accessibilityLabel(info.label.localized())
    }
}

/// The shape the core assigns to a band (circle, triangle, square, repeat, dash).
struct BandShapeView: View {
    let shape: BandShape

    var body: some View {
        switch shape {
        case .circle: Image(systemName: "circle.fill").resizable()
        case .triangle: Image(systemName: "triangle.fill").resizable()
        case .square: Image(systemName: "square.fill").resizable()
        case .repeat: Image(systemName: "arrow.clockwise").resizable()
        case .dash: Image(systemName: "minus").resizable()
        }
    }
}

extension Band {
    /// The band's colour; always shown with its shape and label.
    var color: Color {
        switch self {
        case .green: Color(red: 0.10, green: 0.55, blue: 0.25)
        case .yellow: Color(red: 0.80, green: 0.55, blue: 0.0)
        case .red: Color(red: 0.80, green: 0.10, blue: 0.10)
        case .measureAgain: .blue
        case .notAssessed: .gray
        }
    }
}
