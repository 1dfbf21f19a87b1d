"""Function-screen families (作業畫面), one package each."""
