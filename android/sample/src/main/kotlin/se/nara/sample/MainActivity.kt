package se.nara.sample

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.viewModels
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface

/** The one screen of the sample. */
class MainActivity : ComponentActivity() {
    private val viewModel: ReadingsViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContent {
            MaterialTheme {
                Surface {
                    ReadingsScreen(viewModel)
                }
            }
        }
    }
}
