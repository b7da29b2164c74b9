package se.nara.sample

import androidx.compose.foundation.Canvas
import androidx.compose.foundation.background
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.safeDrawingPadding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.shape.RoundedCornerShape
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.Path
import androidx.compose.ui.graphics.drawscope.DrawScope
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import se.nara.localized
import uniffi.nara.Band
import uniffi.nara.BandShape
import uniffi.nara.Reading
import uniffi.nara.bandInfo
import uniffi.nara.metricInfo

/** Colours support the symbol, shape and label; they are never the only signal. */
private fun bandColor(band: Band): Color = when (band) {
    Band.GREEN -> Color(0xFF1B7F3B)
    Band.YELLOW -> Color(0xFFB26A00)
    Band.RED -> Color(0xFFC62828)
    Band.MEASURE_AGAIN -> Color(0xFF1565C0)
    Band.NOT_ASSESSED -> Color(0xFF616161)
}

private val timeFormat = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")

/** The form, the 30-day trend and the live list. */
@Composable
fun ReadingsScreen(viewModel: ReadingsViewModel) {
    val state by viewModel.state.collectAsStateWithLifecycle()
    val formErrors by viewModel.formErrors.collectAsStateWithLifecycle()

    Column(Modifier.fillMaxSize().safeDrawingPadding().padding(16.dp)) {
        state.openError?.let {
            Text(it, color = MaterialTheme.colorScheme.error)
            return@Column
        }
        BloodPressureForm(formErrors) { sys, dia, pulse, onSaved -> viewModel.add(sys, dia, pulse, onSaved) }
        state.trend?.let { TrendCard(it) }
        LazyColumn(verticalArrangement = Arrangement.spacedBy(8.dp)) {
            items(state.readings, key = { it.id }) { ReadingRow(it) }
        }
    }
}

@Composable
private fun BloodPressureForm(
    errors: List<String>,
    onAdd: (String, String, String, () -> Unit) -> Unit,
) {
    var systolic by rememberSaveable { mutableStateOf("") }
    var diastolic by rememberSaveable { mutableStateOf("") }
    var pulse by rememberSaveable { mutableStateOf("") }
    val numbers = KeyboardOptions(keyboardType = KeyboardType.Number)
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp), verticalAlignment = Alignment.CenterVertically) {
        OutlinedTextField(systolic, { systolic = it }, Modifier.weight(1f), label = { Text("Övre / SYS") }, keyboardOptions = numbers, singleLine = true)
        OutlinedTextField(diastolic, { diastolic = it }, Modifier.weight(1f), label = { Text("Nedre / DIA") }, keyboardOptions = numbers, singleLine = true)
        OutlinedTextField(pulse, { pulse = it }, Modifier.weight(1f), label = { Text("Puls") }, keyboardOptions = numbers, singleLine = true)
    }
    Button(
        onClick = { onAdd(systolic, diastolic, pulse) { systolic = ""; diastolic = ""; pulse = "" } },
        modifier = Modifier.padding(vertical = 8.dp),
    ) { Text("Spara") }
    errors.forEach { Text(it, color = MaterialTheme.colorScheme.error) }
}

/** Symbol and label in the band's colour, with the shape drawn beside them. */
@Composable
private fun BandBadge(band: Band) {
    val info = remember(band) { bandInfo(band) }
    val label = info.label.localized()
    Row(
        verticalAlignment = Alignment.CenterVertically,
        modifier = Modifier.semantics { contentDescription = label },
    ) {
        val color = bandColor(band)
        Canvas(Modifier.padding(end = 6.dp).size(14.dp)) { drawBandShape(info.shape, center, color) }
        Text(
            "${info.symbol} $label",
            color = Color.White,
            fontWeight = FontWeight.Bold,
            modifier = Modifier
                .background(bandColor(band), RoundedCornerShape(6.dp))
                .padding(horizontal = 8.dp, vertical = 2.dp),
        )
    }
}

@Composable
private fun ReadingRow(reading: Reading) {
    val offset = ZoneOffset.ofTotalSeconds(reading.utcOffsetSeconds)
    val time = reading.effectiveAt.atOffset(offset).format(timeFormat)
    Column(Modifier.fillMaxWidth()) {
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            BandBadge(reading.triage.band)
            Text(reading.valueText.localized(), fontWeight = FontWeight.Bold)
            Text(time, style = MaterialTheme.typography.bodySmall)
        }
        // The reason is always written out: colour and symbol alone never carry the meaning.
        Text(reading.triage.reason.localized(), style = MaterialTheme.typography.bodyMedium)
        if (reading.triage.band != Band.GREEN && reading.triage.band != Band.NOT_ASSESSED) {
            Text("→ " + reading.triage.advice.localized(), color = bandColor(reading.triage.band))
        }
        HorizontalDivider(Modifier.padding(top = 8.dp))
    }
}

@Composable
private fun TrendCard(trend: TrendUi) {
    val s = trend.summary
    Card(Modifier.fillMaxWidth().padding(vertical = 8.dp)) {
        Column(Modifier.padding(12.dp)) {
            Text("${s.windowDays} dagar · ${s.count} mätningar", fontWeight = FontWeight.Bold)
            s.metrics.forEach { m ->
                val info = metricInfo(m.metric)
                Text("${info.label.localized()}: " + "%.0f (%.0f–%.0f) ".format(m.mean, m.min, m.max) + info.unit)
            }
            val counts = s.bandCounts
            Text(
                listOf(
                    Band.GREEN to counts.green,
                    Band.YELLOW to counts.yellow,
                    Band.RED to counts.red,
                    Band.MEASURE_AGAIN to counts.measureAgain,
                ).filter { it.second > 0u }
                    .joinToString("   ") { (band, n) -> "${bandInfo(band).symbol} ${bandInfo(band).label.localized()} $n" },
            )
            if (trend.systolic.size >= 2) SeriesChart(trend)
        }
    }
}

/** The systolic series as a line; each point drawn as its band's shape. */
@Composable
private fun SeriesChart(trend: TrendUi) {
    val points = trend.systolic
    Canvas(Modifier.fillMaxWidth().height(120.dp).padding(top = 8.dp)) {
        val t0 = points.first().at.epochSecond.toFloat()
        val t1 = points.last().at.epochSecond.toFloat().coerceAtLeast(t0 + 1f)
        val lo = points.minOf { it.value }.toFloat() - 5f
        val hi = points.maxOf { it.value }.toFloat() + 5f
        fun position(i: Int) = Offset(
            x = (points[i].at.epochSecond - t0) / (t1 - t0) * size.width,
            y = size.height - (points[i].value.toFloat() - lo) / (hi - lo) * size.height,
        )
        for (i in 1 until points.size) {
            drawLine(Color.Gray, position(i - 1), position(i), strokeWidth = 2f)
        }
        points.forEachIndexed { i, p -> drawBandShape(bandInfo(p.band).shape, position(i), bandColor(p.band)) }
    }
}

private fun DrawScope.drawBandShape(shape: BandShape, at: Offset, color: Color) {
    val r = 6.dp.toPx()
    when (shape) {
        BandShape.CIRCLE -> drawCircle(color, r, at)
        BandShape.SQUARE -> drawRect(color, Offset(at.x - r, at.y - r), Size(2 * r, 2 * r))
        BandShape.TRIANGLE -> drawPath(
            Path().apply {
                moveTo(at.x, at.y - r)
                lineTo(at.x + r, at.y + r)
                lineTo(at.x - r, at.y + r)
                close()
            },
            color,
        )
        else -> drawCircle(color, r, at, style = androidx.compose.ui.graphics.drawscope.Stroke(2f))
    }
}
