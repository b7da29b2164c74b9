package se.nara.platform

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import uniffi.nara.KeyException
import uniffi.nara.KeyProvider

/**
 * A [KeyProvider] that wraps Nära's data key with an AES-256/GCM key kept in the
 * Android Keystore (hardware-backed where the device has it). The key never leaves the
 * Keystore; the core stores only the wrapped data key.
 *
 * Failures map to the core's [KeyException]s so that it can tell a locked device from
 * a key that is gone:
 * - the Keystore key is missing or permanently invalidated (app data restored to another
 *   device, lock screen removed) → [KeyException.Lost];
 * - the user must authenticate or unlock first, or the Keystore reports a transient
 *   failure → [KeyException.Unavailable] (try again later; nothing is lost);
 * - the wrapped key fails GCM authentication (not wrapped by this key) →
 *   [KeyException.WrongKey];
 * - anything else → [KeyException.Other], naming only the exception type.
 *
 * By default the key is usable after the first unlock since boot, like iOS's
 * `kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly`, so background sync works while the
 * screen is locked. Set [unlockedDeviceRequired] to refuse use while locked (API 28+).
 *
 * @property alias the Keystore alias of the wrapping key; one per store.
 */
class AndroidKeystoreKeyProvider(
    private val alias: String = DEFAULT_ALIAS,
    private val unlockedDeviceRequired: Boolean = false,
) : KeyProvider {

    /** Wraps [dataKey], creating the Keystore key on first use. */
    override fun wrap(dataKey: ByteArray): ByteArray = mapped {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, existingKey() ?: createKey())
        val iv = cipher.iv
        val sealed = cipher.doFinal(dataKey)
        byteArrayOf(FORMAT_VERSION, iv.size.toByte()) + iv + sealed
    }

    /** Unwraps a key that [wrap] produced. */
    override fun unwrapKey(wrapped: ByteArray): ByteArray = mapped {
        val key = existingKey() ?: throw KeyException.Lost()
        if (wrapped.size < 2 || wrapped[0] != FORMAT_VERSION) throw KeyException.WrongKey()
        val ivLength = wrapped[1].toInt()
        if (ivLength <= 0 || wrapped.size < 2 + ivLength + TAG_BITS / 8) {
            throw KeyException.WrongKey()
        }
        val iv = wrapped.copyOfRange(2, 2 + ivLength)
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, iv))
        cipher.doFinal(wrapped, 2 + ivLength, wrapped.size - 2 - ivLength)
    }

    /** Deletes the Keystore key (logout, wipe). Deleting a missing key is not an error. */
    override fun forget(): Unit = mapped {
        val store = keyStore()
        if (store.containsAlias(alias)) store.deleteEntry(alias)
    }

    private fun keyStore(): KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    private fun existingKey(): SecretKey? = keyStore().getKey(alias, null) as? SecretKey

    private fun createKey(): SecretKey {
        val spec = KeyGenParameterSpec.Builder(
            alias,
            KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT,
        )
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setRandomizedEncryptionRequired(true)
            .apply {
                if (unlockedDeviceRequired && Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
                    setUnlockedDeviceRequired(true)
                }
            }
            .build()
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        generator.init(spec)
        return generator.generateKey()
    }

    private inline fun <T> mapped(block: () -> T): T =
        try {
            block()
        } catch (e: KeyException) {
            throw e
        } catch (e: Exception) {
            throw classify(e)
        }

    private companion object {
        const val DEFAULT_ALIAS = "se.nara.data-key-wrap"
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val TAG_BITS = 128
        const val FORMAT_VERSION: Byte = 1

        /** Walks the cause chain: the Keystore often wraps the telling exception. */
        fun classify(e: Exception): KeyException {
            var t: Throwable? = e
            while (t != null) {
                when (t) {
                    is KeyPermanentlyInvalidatedException -> return KeyException.Lost()
                    is UserNotAuthenticatedException -> return KeyException.Unavailable()
                    is AEADBadTagException -> return KeyException.WrongKey()
                }
                if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU &&
                    t is android.security.KeyStoreException
                ) {
                    when {
                        t.numericErrorCode == android.security.KeyStoreException.ERROR_KEY_DOES_NOT_EXIST ->
                            return KeyException.Lost()
                        t.requiresUserAuthentication() || t.isTransientFailure ->
                            return KeyException.Unavailable()
                    }
                }
                t = t.cause
            }
            // The type only: messages of crypto exceptions may describe key material.
            return KeyException.Other(e.javaClass.simpleName)
        }
    }
}
